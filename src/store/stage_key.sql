INSERT INTO stages (stage_arn) VALUES (?1)
ON CONFLICT (stage_arn) DO UPDATE SET stage_arn = excluded.stage_arn
RETURNING stage_key
