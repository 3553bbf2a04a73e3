INSERT OR REPLACE INTO participant_counts (
    participant_key, session_key, first_event_us, last_event_us, joins, join_errors, publishes,
    publish_errors, subscribes, subscribe_errors, first_join_us, first_publish_us,
    first_subscribe_us, subscribed_pairs, subscribe_pairs, replica_events, covered_events,
    api_events, orphan_stops, ignored_starts, unknown_names, unknown_error_codes,
    closed_at_session_end)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
        ?20, ?21, ?22, ?23)
