"""Standardisation and admission (准入校验): one definition per field, used by
both the batch path (:mod:`matching.standardise.batch`) and the per-record
path (:func:`matching.standardise.record.standardise_record`)."""
