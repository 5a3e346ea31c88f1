"""Python SDK of modelplane's native API (`/v1`), sync and async, over httpx.

    from modelplane.client import Client, NotFound

    with Client("http://127.0.0.1:8080", api_key="mp_…") as client:
        for group in client.model_groups.iter(page_size=100):
            print(group.model_template_id, group.name)

Errors are one class per native error code (see `modelplane.client.errors`), all
subclasses of `ModelplaneError`.
"""

from modelplane.client.async_clients import AsyncClient
from modelplane.client.clients import Client
from modelplane.client.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    ModelplaneError,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    TransportError,
    Unauthenticated,
    Unavailable,
)
from modelplane.client.models import (
    AccessKey,
    ApiKey,
    AuditEvent,
    AuditEventPage,
    BatchResult,
    Capabilities,
    Config,
    ConfigChange,
    ConfigNamespace,
    ConfigNamespaceChanges,
    CreatedLlm,
    IssuedAccessKey,
    IssuedApiKey,
    Llm,
    LlmStatus,
    LlmTemplate,
    LlmTemplatePage,
    ModelGroup,
    ModelGroupPage,
    NamespaceSummary,
    Principal,
    PromptTemplate,
    PromptTemplatePage,
    ProviderConfig,
    ProviderTemplate,
    ProviderTemplatePage,
    Rendered,
    SkippedItem,
    Workspace,
    WorkspaceMember,
)

__all__ = [
    "AccessKey",
    "AlreadyExists",
    "ApiKey",
    "AsyncClient",
    "AuditEvent",
    "AuditEventPage",
    "BatchResult",
    "Capabilities",
    "Client",
    "Config",
    "ConfigChange",
    "ConfigNamespace",
    "ConfigNamespaceChanges",
    "CreatedLlm",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "IssuedAccessKey",
    "IssuedApiKey",
    "Llm",
    "LlmStatus",
    "LlmTemplate",
    "LlmTemplatePage",
    "ModelGroup",
    "ModelGroupPage",
    "ModelplaneError",
    "NamespaceSummary",
    "NotFound",
    "PermissionDenied",
    "Principal",
    "PromptTemplate",
    "PromptTemplatePage",
    "ProviderConfig",
    "ProviderTemplate",
    "ProviderTemplatePage",
    "Rendered",
    "ResourceExhausted",
    "SkippedItem",
    "TransportError",
    "Unauthenticated",
    "Unavailable",
    "Workspace",
    "WorkspaceMember",
]
