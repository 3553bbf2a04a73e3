SELECT stage_key FROM stages WHERE stage_arn = ?1
