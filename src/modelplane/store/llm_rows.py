"""Mapping between `Llm` entities and rows of the `llms` table."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from modelplane.domain.llm_types import (
    Capabilities,
    DashScopeApiDialect,
    Modality,
    ProviderType,
    SamplingParams,
)
from modelplane.domain.llms import Llm


def to_row(llm: Llm) -> dict[str, Any]:
    """Column values for `llm` (credentials excluded)."""
    sampling = None
    if llm.default_sampling_params is not None:
        sampling = {k: v for k, v in asdict(llm.default_sampling_params).items() if v is not None}
        if "stop_sequences" in sampling:
            sampling["stop_sequences"] = list(sampling["stop_sequences"])
    return {
        "llm_id": llm.llm_id,
        "owner_id": llm.owner_id,
        "display_name": llm.display_name,
        "description": llm.description,
        "provider_type": llm.provider_type.value,
        "endpoint_url": llm.endpoint_url,
        "api_path": llm.api_path,
        "model_identifier": llm.model_identifier,
        "supported_modalities": [m.value for m in llm.supported_modalities],
        "labels": llm.labels,
        "version": llm.version,
        "monitoring_endpoint": llm.monitoring_endpoint,
        "capabilities": asdict(llm.capabilities),
        "default_sampling_params": sampling,
        "max_context_length": llm.max_context_length,
        "client_config": llm.client_config,
        "dashscope_api_dialect": (
            llm.dashscope_api_dialect.value if llm.dashscope_api_dialect else None
        ),
        "credentials_fingerprint": llm.credentials_fingerprint,
        "connection_key": llm.connection_key,
        "created_at": llm.created_at,
        "updated_at": llm.updated_at,
        "created_by_id": llm.created_by_id,
        "updated_by_id": llm.updated_by_id,
    }


def from_row(row: Any) -> Llm:
    """Rebuild the entity from a result row of the `llms` table."""
    sampling = row.default_sampling_params
    return Llm(
        llm_id=row.llm_id,
        owner_id=row.owner_id,
        display_name=row.display_name,
        description=row.description,
        provider_type=ProviderType(row.provider_type),
        endpoint_url=row.endpoint_url,
        api_path=row.api_path,
        model_identifier=row.model_identifier,
        supported_modalities=tuple(Modality(m) for m in row.supported_modalities),
        labels=dict(row.labels),
        version=row.version,
        monitoring_endpoint=row.monitoring_endpoint,
        capabilities=Capabilities(**row.capabilities),
        default_sampling_params=(
            SamplingParams(
                **{
                    **sampling,
                    "stop_sequences": (
                        tuple(sampling["stop_sequences"]) if "stop_sequences" in sampling else None
                    ),
                }
            )
            if sampling is not None
            else None
        ),
        max_context_length=row.max_context_length,
        client_config=row.client_config,
        credentials_fingerprint=row.credentials_fingerprint,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by_id=row.created_by_id,
        updated_by_id=row.updated_by_id,
        dashscope_api_dialect=(
            DashScopeApiDialect(row.dashscope_api_dialect) if row.dashscope_api_dialect else None
        ),
    )
