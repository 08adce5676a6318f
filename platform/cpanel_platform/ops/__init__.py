"""Long operations on a running platform: recycles, upgrades, drains and the on-call actions."""
