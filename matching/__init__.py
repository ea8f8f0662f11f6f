"""ECIF matching core: standardisation, matching and clustering.

Pure code: tables in, tables out. Imports neither Flask nor the ORM.
"""
