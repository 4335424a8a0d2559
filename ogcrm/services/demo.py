"""Generated demo data for the embedded set-up (``ogcrm demo``).

Deterministic (seeded) and made up: names are composed from word lists, never taken
from the real agency files, which are for tests only.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.db.models import Contact, ContactEmail, ContactPhone, Organization, Well
from ogcrm.services.organizations import create_organization

_FIRST = (
    "Permian",
    "Basin",
    "Red Mesa",
    "Lone Star",
    "Caprock",
    "Eagle",
    "Prairie",
    "High Plains",
    "Sandhill",
    "Cedar",
    "Canyon",
    "Bluestem",
    "Mesa",
    "Pecos",
    "Llano",
)
_SECOND = (
    "Energy",
    "Resources",
    "Operating",
    "Petroleum",
    "Exploration",
    "Oil & Gas",
    "Production",
    "Midstream",
)
_SUFFIX = ("LLC", "Inc.", "LP", "Co.", "Corp.")
_STATES = (
    ("TX", "42", "rrc"),
    ("NM", "30", "nmocd"),
    ("ND", "33", "ndic"),
    ("OK", "35", "occ"),
    ("CO", "05", "ecmc"),
)
_PEOPLE = ("Avery", "Jordan", "Casey", "Morgan", "Riley", "Quinn", "Parker", "Reese")
_LAST = ("Hale", "Ortiz", "Nguyen", "Bishop", "Carver", "Delgado", "Fischer", "Grant")


def seed_demo(session: Session, *, organizations: int = 200, seed: int = 7) -> dict[str, Any]:
    """Add demo organizations with contacts and wells, unless the CRM already has data."""
    existing = session.scalar(select(func.count()).select_from(Organization)) or 0
    if existing:
        return {"seeded": False, "organizations": existing}
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    wells = contacts = 0
    for n in range(organizations):
        state, state_code, agency = rng.choice(_STATES)
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {n + 1} {rng.choice(_SUFFIX)}"
        priority = round(rng.uniform(0, 100), 1)
        org = create_organization(
            session,
            name=name,
            identifiers={agency: f"{n + 1:06d}"},
            state=state,
            priority=priority,
            score=priority,
        )
        for k in range(rng.randint(1, 3)):
            first, last = rng.choice(_PEOPLE), rng.choice(_LAST)
            contact = Contact(
                organization_id=org.id, full_name=f"{first} {last}", title="Operations"
            )
            contact.emails.append(
                ContactEmail(address=f"{first}.{last}{n}{k}@example.com".lower(), is_primary=True)
            )
            contact.phones.append(ContactPhone(number=f"+1432555{n % 10000:04d}", is_primary=True))
            session.add(contact)
            contacts += 1
        for _ in range(rng.randint(0, 4)):
            wells += 1
            session.add(
                Well(
                    api10=f"{state_code}{rng.randint(1, 500):03d}{wells:05d}",
                    name=f"{name.split()[0].upper()} {wells}H",
                    operator_id=org.id,
                    state=state,
                )
            )
    session.flush()
    return {"seeded": True, "organizations": organizations, "contacts": contacts, "wells": wells}
