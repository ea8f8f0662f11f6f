"""Trap groups: sets of DIFFERENT true customers that look alike.

:func:`layout` picks which entities of a block belong to which group. Group
members sit at random positions of the block (so a truncated last block
keeps traps in proportion); the first member of each group is its leader,
whose attributes the others copy in part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GroupSpec", "Groups", "layout"]


@dataclass(frozen=True)
class GroupSpec:
    kind: str                    # the trap kind, a GeneratorParams field name
    rate: float                  # share of the block's entities in such groups
    sizes: tuple[int, ...]       # possible group sizes
    size_p: tuple[float, ...]    # their probabilities


@dataclass(frozen=True)
class Groups:
    trap: np.ndarray     # object: trap kind of each entity, "" for none
    leader: np.ndarray   # int64: index of the group's leader, -1 for none
    members: dict[str, tuple[np.ndarray, np.ndarray]]  # kind → (followers, their leaders)
    leaders: dict[str, np.ndarray]  # kind → leader indexes


def layout(rng: np.random.Generator, n: int, specs: list[GroupSpec]) -> Groups:
    """Assign entities 0..n-1 to trap groups per ``specs``."""
    order = rng.permutation(n)
    trap = np.full(n, "", dtype=object)
    leader = np.full(n, -1, dtype=np.int64)
    members: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    leaders: dict[str, np.ndarray] = {}
    at = 0
    for spec in specs:
        mean = float(np.dot(spec.sizes, spec.size_p))
        count = int(rng.binomial(n, min(1.0, spec.rate / mean))) if spec.rate > 0 else 0
        sizes = rng.choice(spec.sizes, size=count, p=spec.size_p)
        follow: list[int] = []
        follow_leader: list[int] = []
        heads: list[int] = []
        for size in sizes.tolist():
            if at + size > n:
                break
            group = order[at:at + size]
            at += size
            head = int(group[0])
            heads.append(head)
            trap[group] = spec.kind
            leader[group] = head
            for m in group[1:].tolist():
                follow.append(m)
                follow_leader.append(head)
        members[spec.kind] = (np.array(follow, dtype=np.int64),
                              np.array(follow_leader, dtype=np.int64))
        leaders[spec.kind] = np.array(heads, dtype=np.int64)
    return Groups(trap, leader, members, leaders)
