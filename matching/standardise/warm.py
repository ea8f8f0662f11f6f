"""Imported by a worker pool's fork server (see ``preload`` in
:func:`matching.parallel.map_ordered`): standardises a few varied rows, so that
the field standardisers' tables built on first use (the gazetteer index, phone
number metadata, OpenCC's dictionaries, the ID area codes) are built once in
the server and every worker forked from it starts with them. Without it each
worker builds them on its first chunk (about a third of a CPU second each).
Importing it anywhere else costs that once and changes nothing."""

from __future__ import annotations

from matching.config import load_code_maps
from matching.standardise.record import standardise_record

__all__ = ["warm_up"]

_ROWS = (
    {"source_system": "CORE", "source_customer_id": "C1", "customer_type": "P",
     "name": "張偉", "gender": "1", "birth_date": "1985-03-07", "id_type": "0",
     "id_number": "440305198503071238", "mobile": "+86 138-0013-8000",
     "phone": "0755-83765432", "email": "Zhang.Wei@QQ.com",
     "address": "廣東省深圳市南山區科技園1號", "updated_at": "2026-11-01T08:00:00+08:00"},
    {"source_system": "UW", "source_customer_id": "G1", "customer_type": "G",
     "name": "腾讯计算机系统（深圳）有限公司南山分公司", "id_type": "51",
     "id_number": "91440300708461136T", "phone": "(010)62345678",
     "address": "北京市海淀区中关村大街1号", "legal_rep": "马化腾",
     "updated_at": "2026-11-01 08:00:00"},
    {"source_system": "WEB", "source_customer_id": "W1", "customer_type": "P",
     "name": "John SMITH", "gender": "male", "birth_date": "19850307", "id_type": "PASSPORT",
     "id_number": "E12345678", "mobile": "13800138000", "address": "上海浦东新区世纪大道100号",
     "updated_at": "2026-11-01"},
)


def warm_up() -> None:
    codes = load_code_maps()
    for row in _ROWS:
        standardise_record(row, codes)


warm_up()
