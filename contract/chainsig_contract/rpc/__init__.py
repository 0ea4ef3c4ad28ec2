"""NEAR JSON-RPC over aiohttp for the devnet host."""
