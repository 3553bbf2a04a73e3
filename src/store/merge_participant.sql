-- Fields the record leaves out keep what an earlier record said (ListParticipants carries less
-- than GetParticipant).
UPDATE participants
SET user_id = coalesce(:user_id, user_id),
    state = coalesce(:state, state),
    first_join_time_us = coalesce(:first_join_time_us, first_join_time_us),
    attributes = coalesce(:attributes, attributes),
    published = coalesce(:published, published),
    isp_name = coalesce(:isp_name, isp_name),
    os_name = coalesce(:os_name, os_name),
    os_version = coalesce(:os_version, os_version),
    browser_name = coalesce(:browser_name, browser_name),
    browser_version = coalesce(:browser_version, browser_version),
    sdk_version = coalesce(:sdk_version, sdk_version),
    protocol = coalesce(:protocol, protocol),
    recording_s3_bucket_name = coalesce(:recording_s3_bucket_name, recording_s3_bucket_name),
    recording_s3_prefix = coalesce(:recording_s3_prefix, recording_s3_prefix),
    recording_state = coalesce(:recording_state, recording_state),
    replication_type = coalesce(:replication_type, replication_type),
    replication_state = coalesce(:replication_state, replication_state),
    source_stage_arn = coalesce(:source_stage_arn, source_stage_arn),
    source_session_id = coalesce(:source_session_id, source_session_id),
    redundant_ingest = coalesce(:redundant_ingest, redundant_ingest),
    ingest_configuration_arn = coalesce(:ingest_configuration_arn, ingest_configuration_arn),
    extra_json = coalesce(:extra_json, extra_json)
WHERE participant_key = :participant_key
