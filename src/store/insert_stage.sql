-- A stage not stored yet (find_stage.sql found none).
INSERT INTO stages (stage_arn) VALUES (?1)
RETURNING stage_key
