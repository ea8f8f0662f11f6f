"""E-mail addresses."""

from __future__ import annotations

import pytest

from matching.standardise.email import standardise_email
from matching.standardise.issues import Issue

BAD = (None, (Issue.EMAIL_INVALID,))

CASES: list[tuple[str | None, tuple[str | None, tuple[str, ...]]]] = [
    ("zhangsan@qq.com", ("zhangsan@qq.com", ())),
    ("12345678@qq.com", ("12345678@qq.com", ())),
    (" Zhang.San@163.COM ", ("zhang.san@163.com", ())),
    ("wang_wei-88@126.com", ("wang_wei-88@126.com", ())),
    ("li.na@sina.com.cn", ("li.na@sina.com.cn", ())),
    ("user+tag@gmail.com", ("user+tag@gmail.com", ())),
    ("service@pingan.com.cn", ("service@pingan.com.cn", ())),
    ("a@mail.xn--fiqs8s", ("a@mail.xn--fiqs8s", ())),
    # what a Chinese input method produces
    ("ｚｈａｎｇｓａｎ＠ｑｑ．ｃｏｍ", ("zhangsan@qq.com", ())),
    ("zhangsan@qq。com", ("zhangsan@qq.com", ())),
    ("\u3000zhangsan@qq.com\u3000", ("zhangsan@qq.com", ())),
    # a typo that is still an address is kept
    ("zhangsan@qq.con", ("zhangsan@qq.con", ())),
    # invalid
    ("zhangsan", BAD),
    ("zhangsan@qq", BAD),
    ("zhangsan@@qq.com", BAD),
    ("zhang@san@qq.com", BAD),
    ("zhang san@qq.com", BAD),
    ("zhangsan@qq .com", BAD),
    ("@qq.com", BAD),
    ("zhangsan@", BAD),
    ("zhangsan@.com", BAD),
    ("zhangsan@qq..com", BAD),
    ("zhangsan.@qq.com", BAD),
    (".zhangsan@qq.com", BAD),
    ("zhang..san@qq.com", BAD),
    ("zhangsan@-qq.com", BAD),
    ("zhangsan@qq-.com", BAD),
    ("zhangsan@qq.c", BAD),
    ("zhangsan@qq.123", BAD),
    ("张三@qq.com", BAD),
    ("zhangsan@qq.com;lisi@qq.com", BAD),
    ("mailto:zhangsan@qq.com", BAD),
    ("x" * 65 + "@qq.com", BAD),
    ("x" * 64 + "@qq.com", ("x" * 64 + "@qq.com", ())),
    ("a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 61, BAD),
    ("无", BAD),
    # empty
    (None, (None, ())),
    ("", (None, ())),
    ("  ", (None, ())),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_email(raw: str | None, expected: tuple[str | None, tuple[str, ...]]) -> None:
    assert standardise_email(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_standardise_email_is_idempotent(raw: str | None, expected: object) -> None:
    value, _ = standardise_email(raw)
    if value is not None:
        assert standardise_email(value) == (value, ())
