UPDATE imports
SET format = :format,
    warnings = :warnings,
    records_read = :read,
    records_inserted = :inserted,
    records_duplicate = :duplicate,
    records_merged = :merged,
    records_rejected = :rejected,
    records_skipped = :skipped,
    unknown_names = :unknown_names,
    unknown_error_codes = :unknown_error_codes,
    unknown_fields = :unknown_fields
WHERE import_key = :import_key
