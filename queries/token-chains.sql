-- name: token-chains
-- description: One row per participant that exchanged tokens: the chain of user ids and capabilities, upgrades, downgrades and broken links
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until))
--
-- Exchanges are taken in the order the interval rules apply them (events.seq): by time, and at
-- one instant the exchange whose previous token is the prior new token first. Tokens are compared
-- field by field: capabilities as a set, userId, attributes as a map, expiration as an instant;
-- absent capabilities or attributes count as empty.
--
-- time_to_publish_after_upgrade_s: from the participant's first exchange whose new token has
-- PUBLISH and whose previous token lacks it, to the first PUBLISH_STARTED after that exchange in
-- the applied order (so a PUBLISH_STARTED at the same instant counts: it applies after the
-- exchange); NULL when there is no such exchange or no PUBLISH_STARTED after it.
-- insufficient_capability_errors_before / _after: the participant's events with error code
-- INSUFFICIENT_CAPABILITIES (whatever the event name) applied before / after its first upgrade
-- (the first exchange counted in upgrades). Without an upgrade, _before counts all of them and
-- _after is NULL: there is no upgrade to be after.
-- Seconds are rounded to 3 decimals on a scaled value (round(us / 1000.0) / 1000.0), so a half
-- rounds away from zero in every SQLite version.
WITH
chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, st.stage_arn, s.session_id
    FROM sessions s
    JOIN stages st USING (stage_key)
    WHERE s.session_key IN (
        -- One session by its id (index sessions_by_id), or else the sessions whose first
        -- event is in the window (index sessions_by_first_event): an OR of the two, in the
        -- WHERE clause, would read every session.
        SELECT session_key FROM sessions WHERE session_id = :session
        UNION ALL
        SELECT session_key FROM sessions
        WHERE :session IS NULL
          AND first_event_us >= coalesce(:since, -9223372036854775807)
          AND first_event_us < coalesce(:until, 9223372036854775807)
    )
      AND s.first_event_us IS NOT NULL
      AND (:stage IS NULL OR st.stage_arn = :stage)
      AND s.first_event_us >= coalesce(:since, -9223372036854775807)
      AND s.first_event_us < coalesce(:until, 9223372036854775807)
),
exchanges AS (
    SELECT
        e.session_key, e.participant_key, e.seq, e.event_time_us,
        coalesce(pt.capabilities, '[]') AS prev_caps,
        coalesce(pt.capability_text, '-') AS prev_caps_text,
        pt.user_id AS prev_user,
        coalesce(pt.attributes, '{}') AS prev_attrs,
        pt.expiration_time_us AS prev_exp,
        coalesce(nt.capabilities, '[]') AS new_caps,
        coalesce(nt.capability_text, '-') AS new_caps_text,
        nt.user_id AS new_user,
        coalesce(nt.attributes, '{}') AS new_attrs,
        nt.expiration_time_us AS new_exp
    FROM reported_events e
    LEFT JOIN token_list pt ON pt.token_key = e.previous_token_key
    LEFT JOIN token_list nt ON nt.token_key = e.new_token_key
    WHERE e.session_key IN (SELECT session_key FROM chosen)
      AND e.name = 'TOKEN_EXCHANGED'
),
ordered AS (
    SELECT x.*,
           row_number() OVER w AS k,
           count(*) OVER (PARTITION BY participant_key) AS n,
           lag(new_caps) OVER w AS prior_caps,
           lag(new_user) OVER w AS prior_user,
           lag(new_attrs) OVER w AS prior_attrs,
           lag(new_exp) OVER w AS prior_exp,
           group_concat(new_caps_text, ' > ') OVER (
               PARTITION BY participant_key ORDER BY seq
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS new_caps_path
    FROM exchanges x
    WINDOW w AS (PARTITION BY participant_key ORDER BY seq)
),
flagged AS (
    SELECT o.*,
           EXISTS (SELECT 1 FROM json_each(o.new_caps) g
                   WHERE g.value NOT IN (SELECT value FROM json_each(o.prev_caps))) AS upgrade,
           EXISTS (SELECT 1 FROM json_each(o.prev_caps) l
                   WHERE l.value NOT IN (SELECT value FROM json_each(o.new_caps))) AS downgrade,
           k > 1 AND NOT (prev_caps = prior_caps
                          AND prev_user IS prior_user
                          AND prev_attrs = prior_attrs
                          AND prev_exp IS prior_exp) AS broken,
           'PUBLISH' IN (SELECT value FROM json_each(o.new_caps))
               AND 'PUBLISH' NOT IN (SELECT value FROM json_each(o.prev_caps)) AS gains_publish
    FROM ordered o
),
upgrade_points AS (
    SELECT session_key, participant_key,
           min(CASE WHEN upgrade THEN seq END) AS upgrade_seq,
           min(CASE WHEN gains_publish THEN seq END) AS publish_grant_seq,
           min(CASE WHEN gains_publish THEN event_time_us END) AS publish_grant_us
    FROM flagged
    GROUP BY session_key, participant_key
),
after_upgrade AS (
    SELECT u.participant_key,
           (SELECT min(e.event_time_us) FROM reported_events e
            WHERE e.session_key = u.session_key AND e.participant_key = u.participant_key
              AND e.name = 'PUBLISH_STARTED' AND e.seq > u.publish_grant_seq)
               - u.publish_grant_us AS time_to_publish_us,
           (SELECT count(*) FROM reported_events e
            WHERE e.session_key = u.session_key AND e.participant_key = u.participant_key
              AND e.error_code = 'INSUFFICIENT_CAPABILITIES'
              AND (u.upgrade_seq IS NULL OR e.seq < u.upgrade_seq)) AS errors_before,
           CASE WHEN u.upgrade_seq IS NOT NULL THEN
               (SELECT count(*) FROM reported_events e
                WHERE e.session_key = u.session_key AND e.participant_key = u.participant_key
                  AND e.error_code = 'INSUFFICIENT_CAPABILITIES'
                  AND e.seq > u.upgrade_seq)
           END AS errors_after
    FROM upgrade_points u
)
SELECT
    c.stage_arn,
    c.session_id,
    p.participant_id,
    count(*) AS exchanges,
    strftime('%Y-%m-%dT%H:%M:%S', min(f.event_time_us) / 1000000, 'unixepoch')
        || printf('.%03dZ', min(f.event_time_us) / 1000 % 1000) AS first_exchange_at,
    strftime('%Y-%m-%dT%H:%M:%S', max(f.event_time_us) / 1000000, 'unixepoch')
        || printf('.%03dZ', max(f.event_time_us) / 1000 % 1000) AS last_exchange_at,
    max(CASE WHEN f.k = 1 THEN f.prev_user END) AS initial_user_id,
    max(CASE WHEN f.k = f.n THEN f.new_user END) AS final_user_id,
    max(CASE WHEN f.k = 1 THEN f.prev_caps_text || ' > ' || f.new_caps_path END)
        AS capability_path,
    sum(f.upgrade) AS upgrades,
    sum(f.downgrade) AS downgrades,
    sum(f.broken) AS broken_links,
    round((max(CASE WHEN f.k = f.n THEN f.new_exp END)
           - max(CASE WHEN f.k = 1 THEN f.prev_exp END)) / 1000.0) / 1000.0 AS expiry_extension_s,
    round(max(a.time_to_publish_us) / 1000.0) / 1000.0 AS time_to_publish_after_upgrade_s,
    max(a.errors_before) AS insufficient_capability_errors_before,
    max(a.errors_after) AS insufficient_capability_errors_after
FROM flagged f
JOIN chosen c USING (session_key)
JOIN participants p USING (participant_key)
JOIN after_upgrade a USING (participant_key)
GROUP BY f.participant_key
ORDER BY c.stage_arn, c.session_id, p.participant_id, min(f.event_time_us);
