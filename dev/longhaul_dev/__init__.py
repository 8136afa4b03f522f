"""Local development for longhaul: the template reader, the moto-backed local stack, the dev server, the CLI.

Not shipped in the Lambda layer.
"""
