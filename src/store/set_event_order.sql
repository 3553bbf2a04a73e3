UPDATE events SET seq = ?2, step = ?3 WHERE event_key = ?1 AND (seq <> ?2 OR step <> ?3)
