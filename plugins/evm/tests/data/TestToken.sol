// SPDX-License-Identifier: MIT
// Compiled into TestToken.json (abi + creation bytecode) with solc 0.8.28 from npm ("solc"),
// optimizer on (200 runs), evmVersion paris:
//   const out = solc.compile(JSON.stringify({language: "Solidity", sources: {"TestToken.sol": {content}},
//     settings: {optimizer: {enabled: true, runs: 200}, evmVersion: "paris",
//                outputSelection: {"*": {"*": ["abi", "evm.bytecode.object"]}}}}));
// The tests deploy it on anvil; nothing here is compiled at test time.
pragma solidity 0.8.28;

/// A minimal standard ERC-20 for chainsig's tests: the whole supply goes to `holder`.
contract TestToken {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint256 supply, address holder) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
        totalSupply = supply;
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "ERC20: insufficient allowance");
            allowance[from][msg.sender] = allowed - value;
        }
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(to != address(0), "ERC20: transfer to the zero address");
        require(balanceOf[from] >= value, "ERC20: transfer amount exceeds balance");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
