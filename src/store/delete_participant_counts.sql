-- A participant whose events are all covered has no reported events to count.
DELETE FROM participant_counts WHERE participant_key = ?1
