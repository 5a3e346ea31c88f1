"""The Alibaba Cloud faces: the RPC face (`rpc/`), the ROA faces (`roa/`), and what they
share: the signed transport (`transport.py`) and applying an error table (`errors.py`)."""
