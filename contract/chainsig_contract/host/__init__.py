"""The devnet host: a single-shard NEAR-like chain that runs the signer contract."""
