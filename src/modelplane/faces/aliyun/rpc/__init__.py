"""The Alibaba RPC face: `POST /` dispatched on `x-acs-action` (appstream-center 2021-09-01)."""
