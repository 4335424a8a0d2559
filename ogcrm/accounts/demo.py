"""Generated demo data for the embedded set-up (``ogcrm demo``).

Deterministic (seeded) and made up: names are composed from word lists, never taken
from the real agency files, which are for tests only.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.auth.users import create_user
from ogcrm.db.models import Contact, ContactEmail, ContactPhone, Organization, Well

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


DEMO_USERS = (
    ("admin@demo.ogcrm.test", "Demo Admin", "admin"),
    ("manager@demo.ogcrm.test", "Demo Manager", "manager"),
    ("rep1@demo.ogcrm.test", "Demo Rep One", "sales"),
    ("rep2@demo.ogcrm.test", "Demo Rep Two", "sales"),
)


def seed_demo(session: Session, *, organizations: int = 200, seed: int = 7) -> dict[str, Any]:
    """Add demo users, organizations with contacts and wells, unless the CRM has data.

    Demo users get random passwords, returned once in the summary: an installation
    never has a known default password.
    """
    existing = session.scalar(select(func.count()).select_from(Organization)) or 0
    if existing:
        return {"seeded": False, "organizations": existing}
    actor = system_principal("demo")
    logins = {}
    reps = []
    for email, name, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        user = create_user(
            session, email=email, name=name, role=role, password=password, principal=actor
        )
        logins[email] = password
        if role == "sales":
            reps.append(user.id)
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    wells = contacts = 0
    for n in range(organizations):
        state, state_code, agency = rng.choice(_STATES)
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {n + 1} {rng.choice(_SUFFIX)}"
        priority = round(rng.uniform(0, 100), 1)
        org = create_organization(
            session,
            actor,
            name=name,
            # two thirds owned by the demo reps, the rest unowned prospects to claim
            owner_id=reps[n % 3] if n % 3 < len(reps) else None,
            identifiers={agency: f"{n + 1:06d}"},
            state=state,
            priority=priority,
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
    return {
        "seeded": True,
        "organizations": organizations,
        "contacts": contacts,
        "wells": wells,
        "logins": logins,
    }
