"""The Alibaba ROA faces, routed on the raw path: bailian prompt templates (`bailian.py`)
and EAS dynamic parameters (`eas.py`), sharing one envelope (`endpoint.py`)."""
