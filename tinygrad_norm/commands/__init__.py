"""Subcommands of the tinygrad-norm command line, one module each."""
