"""The metric families the sandbox publishes, as the platform's real exporters name them."""

FAMILIES = (
    "node_disk_io_time_seconds_total",
    "node_disk_io_time_weighted_seconds_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_disk_reads_completed_total",
    "node_disk_writes_completed_total",
    "node_disk_info",
    "kubelet_volume_stats_capacity_bytes",
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_used_bytes",
    "nginx_ingress_controller_requests",
    "probe_success",
    "probe_duration_seconds",
    "ccp_replication_lag_size_bytes",
    "ccp_replication_lag_replay_time",
    "ccp_is_in_recovery_status",
    "ccp_backrest_last_full_backup_time_since_completion_seconds",
    "certmanager_certificate_expiration_timestamp_seconds",
    "certmanager_certificate_renewal_timestamp_seconds",
    "certmanager_certificate_ready_status",
)
