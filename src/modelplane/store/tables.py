"""SQLAlchemy Core tables. Migrations in `store/migrations` create exactly these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

principals = sa.Table(
    "principals",
    metadata,
    sa.Column("principal_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("api_key_id", sa.String(36), primary_key=True),
    sa.Column(
        "principal_id",
        sa.String(36),
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_prefix", sa.String(16), nullable=False),
    sa.Column("label", sa.String(128)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger),
    sa.Column("gateway_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("allowed_models", sa.JSON),
    sa.Column("expires_at", sa.BigInteger),
)

access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("access_key_id", sa.String(64), primary_key=True),
    sa.Column(
        "principal_id",
        sa.String(36),
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger),
)

llms = sa.Table(
    "llms",
    metadata,
    sa.Column("llm_id", sa.String(36), primary_key=True),
    sa.Column("owner_id", sa.String(36), nullable=False, index=True),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("provider_type", sa.String(32), nullable=False),
    sa.Column("endpoint_url", sa.Text, nullable=False),
    sa.Column("api_path", sa.Text, nullable=False),
    sa.Column("model_identifier", sa.String(255), nullable=False),
    sa.Column("supported_modalities", sa.JSON, nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("version", sa.String(64)),
    sa.Column("monitoring_endpoint", sa.Text),
    sa.Column("capabilities", sa.JSON, nullable=False),
    sa.Column("default_sampling_params", sa.JSON),
    sa.Column("max_context_length", sa.Integer),
    sa.Column("client_config", sa.JSON),
    sa.Column("dashscope_api_dialect", sa.String(32)),
    sa.Column("credentials_sealed", sa.Text),
    sa.Column("credentials_fingerprint", sa.String(64), nullable=False),
    # SHA-256 of the duplicate-detection tuple; unique per owner (fixed width for any index).
    sa.Column("connection_key", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("created_by_id", sa.String(36), nullable=False),
    sa.Column("updated_by_id", sa.String(36), nullable=False),
    sa.UniqueConstraint("owner_id", "connection_key", name="uq_llms_owner_connection"),
)

model_groups = sa.Table(
    "model_groups",
    metadata,
    sa.Column("model_template_id", sa.String(32), primary_key=True),
    sa.Column("owner_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("agent_platform", sa.String(64)),
    sa.Column("agent_provider", sa.String(64)),
    sa.Column("biz_type", sa.Integer),
    sa.Column("ref_scope", sa.String(32)),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

provider_templates = sa.Table(
    "provider_templates",
    metadata,
    sa.Column("provider_template_id", sa.String(32), primary_key=True),
    sa.Column(
        "model_template_id",
        sa.String(32),
        sa.ForeignKey("model_groups.model_template_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("owner_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("provider_name", sa.String(64), nullable=False),
    sa.Column("provider_type", sa.String(16), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("base_url", sa.Text),
    sa.Column("api", sa.String(64)),
    sa.Column("api_key_sealed", sa.Text),
    sa.Column("api_key_hint", sa.String(32)),
    sa.Column("enable_wuying_proxy", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint(
        "model_template_id", "provider_name", name="uq_provider_templates_group_name"
    ),
)

llm_templates = sa.Table(
    "llm_templates",
    metadata,
    sa.Column("llm_template_id", sa.String(32), primary_key=True),
    sa.Column(
        "provider_template_id",
        sa.String(32),
        sa.ForeignKey("provider_templates.provider_template_id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Denormalized from the provider so that one index can hold "one default per group".
    sa.Column(
        "model_template_id",
        sa.String(32),
        sa.ForeignKey("model_groups.model_template_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("llm_code", sa.String(128), nullable=False),
    sa.Column("name", sa.String(128)),
    sa.Column("description", sa.Text),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("is_default_model", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("provider_template_id", "llm_code", name="uq_llm_templates_provider_code"),
)
sa.Index(
    "uq_llm_templates_one_default",
    llm_templates.c.model_template_id,
    unique=True,
    sqlite_where=llm_templates.c.is_default_model,
    postgresql_where=llm_templates.c.is_default_model,
)
# The orders in which ListLlmTemplates pages: by group, by provider, over everything.
sa.Index(
    "ix_llm_templates_group_order",
    llm_templates.c.model_template_id,
    llm_templates.c.created_at,
    llm_templates.c.llm_template_id,
)
sa.Index(
    "ix_llm_templates_provider_order",
    llm_templates.c.provider_template_id,
    llm_templates.c.created_at,
    llm_templates.c.llm_template_id,
)
sa.Index("ix_llm_templates_order", llm_templates.c.created_at, llm_templates.c.llm_template_id)

runtime_bindings = sa.Table(
    "runtime_bindings",
    metadata,
    sa.Column("runtime_type", sa.String(64), primary_key=True),
    sa.Column("runtime_id", sa.String(128), primary_key=True),
    sa.Column(
        "model_template_id",
        sa.String(32),
        sa.ForeignKey("model_groups.model_template_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# The API key a runtime binding keeps for the gateway: one per runtime, its token sealed
# (AAD `runtime_gateway_keys/<apiKeyId>/token`). Rows go with their key or group; the
# services revoke the key first (services/runtime_keys.py).
runtime_gateway_keys = sa.Table(
    "runtime_gateway_keys",
    metadata,
    sa.Column(
        "api_key_id",
        sa.String(36),
        sa.ForeignKey("api_keys.api_key_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("runtime_type", sa.String(64), nullable=False),
    sa.Column("runtime_id", sa.String(128), nullable=False),
    sa.Column(
        "model_template_id",
        sa.String(32),
        sa.ForeignKey("model_groups.model_template_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("token_sealed", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("runtime_type", "runtime_id", name="uq_runtime_gateway_keys_runtime"),
)

signature_nonces = sa.Table(
    "signature_nonces",
    metadata,
    sa.Column("access_key_id", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(128), primary_key=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)

workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("owner_id", sa.String(36), nullable=False, index=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

workspace_members = sa.Table(
    "workspace_members",
    metadata,
    sa.Column(
        "workspace_id",
        sa.String(64),
        sa.ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "principal_id",
        sa.String(36),
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("added_at", sa.BigInteger, nullable=False),
    # `reader`, `author` or `editor` (domain.workspaces.MemberRole); members before 0008 are
    # readers.
    sa.Column("role", sa.String(16), nullable=False, server_default="reader"),
)

prompt_templates = sa.Table(
    "prompt_templates",
    metadata,
    sa.Column("prompt_template_id", sa.String(32), primary_key=True),
    sa.Column(
        "workspace_id",
        sa.String(64),
        sa.ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("variables", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("updated_by", sa.String(36), nullable=False),
    # `text` or `chat` (domain.chat_prompts.PromptKind), a chat template's messages as
    # [{role, content}], and the version's config (migration 0012).
    sa.Column("kind", sa.String(8), nullable=False, server_default="text"),
    sa.Column("messages", sa.JSON, nullable=True),
    sa.Column("config", sa.JSON, nullable=True),
)
# A name is taken once per workspace (migration 0009 renamed earlier duplicates).
sa.Index(
    "uq_prompt_templates_workspace_name",
    prompt_templates.c.workspace_id,
    prompt_templates.c.name,
    unique=True,
)
# The list order (oldest first), which the next-page token continues from.
sa.Index(
    "ix_prompt_templates_workspace_order",
    prompt_templates.c.workspace_id,
    prompt_templates.c.created_at,
    prompt_templates.c.prompt_template_id,
)

prompt_template_versions = sa.Table(
    "prompt_template_versions",
    metadata,
    sa.Column(
        "prompt_template_id",
        sa.String(32),
        sa.ForeignKey("prompt_templates.prompt_template_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("variables", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False, server_default="text"),
    sa.Column("messages", sa.JSON, nullable=True),
    sa.Column("config", sa.JSON, nullable=True),
)

# A label points at one version of a template (migration 0010).
prompt_template_labels = sa.Table(
    "prompt_template_labels",
    metadata,
    sa.Column(
        "prompt_template_id",
        sa.String(32),
        sa.ForeignKey("prompt_templates.prompt_template_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("label", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("updated_by", sa.String(36), nullable=False),
)

# Every move of a label, in order (`move_id`); a version of None: the label was removed,
# or set for the first time.
prompt_template_label_moves = sa.Table(
    "prompt_template_label_moves",
    metadata,
    sa.Column("move_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "prompt_template_id",
        sa.String(32),
        sa.ForeignKey("prompt_templates.prompt_template_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=True),
    sa.Column("moved_at", sa.BigInteger, nullable=False),
    sa.Column("moved_by", sa.String(36), nullable=False),
)
sa.Index(
    "ix_prompt_template_label_moves_template",
    prompt_template_label_moves.c.prompt_template_id,
    prompt_template_label_moves.c.move_id,
)

config_namespaces = sa.Table(
    "config_namespaces",
    metadata,
    sa.Column("cluster_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("owner_id", sa.String(36), nullable=False, index=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    # Bumped by every write of the namespace's candidate (0013): its versions never repeat.
    sa.Column("candidate_version", sa.BigInteger, nullable=False, server_default="0"),
)

configs = sa.Table(
    "configs",
    metadata,
    sa.Column("cluster_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("config_key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    # `text`, `json`, `yaml` or `properties` (domain/config_formats.py); 0011 added it.
    sa.Column("format", sa.String(16), nullable=False, server_default="text"),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(
        ["cluster_id", "name"],
        ["config_namespaces.cluster_id", "config_namespaces.name"],
        ondelete="CASCADE",
    ),
)

# One row per parameter changed at a revision: a batch or a revert changes several at one
# (0011 made `config_key` part of the key, and added `format`: None for a delete).
config_history = sa.Table(
    "config_history",
    metadata,
    sa.Column("cluster_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("revision", sa.BigInteger, primary_key=True),
    sa.Column("config_key", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("format", sa.String(16)),
    sa.Column("actor_id", sa.String(36), nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(
        ["cluster_id", "name"],
        ["config_namespaces.cluster_id", "config_namespaces.name"],
        ondelete="CASCADE",
    ),
)
sa.Index(
    "ix_config_history_key",
    config_history.c.cluster_id,
    config_history.c.name,
    config_history.c.config_key,
    config_history.c.revision,
)

# A namespace's open gray release (at most one) and its changes (0013).
config_candidates = sa.Table(
    "config_candidates",
    metadata,
    sa.Column("cluster_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("candidate_id", sa.String(32), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("base_revision", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(
        ["cluster_id", "name"],
        ["config_namespaces.cluster_id", "config_namespaces.name"],
        ondelete="CASCADE",
    ),
)

config_candidate_items = sa.Table(
    "config_candidate_items",
    metadata,
    sa.Column("cluster_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("config_key", sa.String(100), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("op", sa.String(8), nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("format", sa.String(16)),
    sa.ForeignKeyConstraint(
        ["cluster_id", "name"],
        ["config_candidates.cluster_id", "config_candidates.name"],
        ondelete="CASCADE",
    ),
)

# Who watches which namespace, per replica (0013): a replica writes its watchers in
# batches and says it is alive in `config_listener_replicas`; the watchers of a replica
# not heard from for a while are ignored, then deleted.
config_listener_replicas = sa.Table(
    "config_listener_replicas",
    metadata,
    sa.Column("replica_id", sa.String(200), primary_key=True),
    sa.Column("seen_at", sa.BigInteger, nullable=False, index=True),
)

config_listeners = sa.Table(
    "config_listeners",
    metadata,
    sa.Column("listener_id", sa.String(32), primary_key=True),
    sa.Column("replica_id", sa.String(200), nullable=False, index=True),
    sa.Column("cluster_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("client_label", sa.String(64)),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("candidate_version", sa.BigInteger, nullable=False),
    sa.Column("principal_id", sa.String(36), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("since", sa.BigInteger, nullable=False),
)
sa.Index("ix_config_listeners_namespace", config_listeners.c.cluster_id, config_listeners.c.name)

audit_events = sa.Table(
    "audit_events",
    metadata,
    # Starts with the time of the change, so it orders events as they were recorded.
    sa.Column("event_id", sa.String(32), primary_key=True),
    sa.Column("at", sa.BigInteger, nullable=False, index=True),
    sa.Column("actor_id", sa.String(36)),
    sa.Column("face", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(128)),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("resource_id", sa.String(512), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)
# The filters of `GET /v1/audit-events`, each in the list order (newest first).
sa.Index("ix_audit_events_actor", audit_events.c.actor_id, audit_events.c.event_id)
sa.Index(
    "ix_audit_events_resource",
    audit_events.c.resource_type,
    audit_events.c.resource_id,
    audit_events.c.event_id,
)

# Every gateway call, kept for MODELPLANE_USAGE_RETENTION_DAYS (no foreign keys: a record
# outlives the principal, key or model it names). `cost_nanos` is None when no price was
# known; the id orders records written by one replica, `at` orders them all.
usage_records = sa.Table(
    "usage_records",
    metadata,
    sa.Column(
        "record_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # SQLite: the rowid
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("principal_id", sa.String(36), nullable=False),
    sa.Column("api_key_id", sa.String(36)),
    sa.Column("model", sa.String(512), nullable=False),
    sa.Column("member", sa.String(512)),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("streamed", sa.Boolean, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_write_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_nanos", sa.BigInteger),
    sa.Column("latency_us", sa.BigInteger, nullable=False),
    sa.Column("request_id", sa.String(128)),
    sa.Column("prompt", sa.String(80)),  # TEMPLATE_ID@VERSION served (0019)
)
# The time range of every list and of the retention's deletes; a member's own; a key's.
sa.Index("ix_usage_records_at", usage_records.c.at, usage_records.c.record_id)
sa.Index(
    "ix_usage_records_principal",
    usage_records.c.principal_id,
    usage_records.c.at,
    usage_records.c.record_id,
)
sa.Index(
    "ix_usage_records_key",
    usage_records.c.api_key_id,
    usage_records.c.at,
    usage_records.c.record_id,
)

# The records summed per UTC day (days since 1970-01-01), principal, key, model name,
# member and status ('' for no key or no member), added to as records are written; kept
# after the records go. Grouped usage reports read only these.
usage_daily = sa.Table(
    "usage_daily",
    metadata,
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("principal_id", sa.String(36), primary_key=True),
    sa.Column("api_key_id", sa.String(36), primary_key=True),
    sa.Column("model", sa.String(512), primary_key=True),
    sa.Column("member", sa.String(512), primary_key=True),
    sa.Column("status", sa.Integer, primary_key=True),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.Column("streamed_calls", sa.BigInteger, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_write_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_nanos", sa.BigInteger, nullable=False),
    sa.Column("unpriced_calls", sa.BigInteger, nullable=False),
    sa.Column("latency_us", sa.BigInteger, nullable=False),
)
# The filters of a report, each with its days.
sa.Index("ix_usage_daily_principal", usage_daily.c.principal_id, usage_daily.c.day)
sa.Index("ix_usage_daily_key", usage_daily.c.api_key_id, usage_daily.c.day)
sa.Index("ix_usage_daily_model", usage_daily.c.model, usage_daily.c.day)

# The gateway's limits of one principal or one API key (`subject_kind` `principal` or
# `api_key`): requests and tokens per minute, a budget in nano-units per UTC day or
# calendar month; null: no such limit. `principal_id` is the principal the limits concern
# (a key's own), so that the rows go with their principal or key.
spend_limits = sa.Table(
    "spend_limits",
    metadata,
    sa.Column("subject_kind", sa.String(16), primary_key=True),
    sa.Column("subject_id", sa.String(36), primary_key=True),
    sa.Column(
        "principal_id",
        sa.String(36),
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "api_key_id",
        sa.String(36),
        sa.ForeignKey("api_keys.api_key_id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("rpm", sa.BigInteger),
    sa.Column("tpm", sa.BigInteger),
    sa.Column("budget_nanos", sa.BigInteger),
    sa.Column("budget_period", sa.String(8)),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Counters of fixed windows (requests, tokens, spend) when no Redis is configured; a row
# is deleted after `expires_at` (epoch ms), some time after its window ended.
spend_counters = sa.Table(
    "spend_counters",
    metadata,
    sa.Column("counter_key", sa.String(200), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)

# The same sums per calendar month (UTC; `month` is the day number of its first day): a
# report over whole months reads these, and the daily rows only for the days around them.
usage_monthly = sa.Table(
    "usage_monthly",
    metadata,
    sa.Column("month", sa.Integer, primary_key=True),
    sa.Column("principal_id", sa.String(36), primary_key=True),
    sa.Column("api_key_id", sa.String(36), primary_key=True),
    sa.Column("model", sa.String(512), primary_key=True),
    sa.Column("member", sa.String(512), primary_key=True),
    sa.Column("status", sa.Integer, primary_key=True),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.Column("streamed_calls", sa.BigInteger, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_write_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_nanos", sa.BigInteger, nullable=False),
    sa.Column("unpriced_calls", sa.BigInteger, nullable=False),
    sa.Column("latency_us", sa.BigInteger, nullable=False),
)
sa.Index("ix_usage_monthly_principal", usage_monthly.c.principal_id, usage_monthly.c.month)
sa.Index("ix_usage_monthly_key", usage_monthly.c.api_key_id, usage_monthly.c.month)
sa.Index("ix_usage_monthly_model", usage_monthly.c.model, usage_monthly.c.month)

# Lists of connections, newest first (the console's pages): all, and one owner's.
sa.Index("ix_llms_created", llms.c.created_at, llms.c.llm_id)
sa.Index("ix_llms_owner_created", llms.c.owner_id, llms.c.created_at, llms.c.llm_id)

# Signed-in sessions of the web console (faces/console): the SHA-256 of the session id the
# browser holds (never the id), the API key it signed in with (the session ends with it),
# its principal, the secret its forms carry against cross-site requests, and when it ends.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column(
        "api_key_id",
        sa.String(36),
        sa.ForeignKey("api_keys.api_key_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("principal_id", sa.String(36), nullable=False),
    sa.Column("csrf_secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)
