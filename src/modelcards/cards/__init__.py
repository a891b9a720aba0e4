"""YAML card files -> validated cards."""
