"""Your task kinds: one module per kind (``longhaul new-kind NAME`` writes one), named in template.yaml's
LONGHAUL_KINDS. Shipped to every function as the KindsLayer; nothing here is part of the longhaul package."""
