"""The Alibaba ROA faces, routed on the raw path: bailian prompt templates (`bailian.py`)."""
