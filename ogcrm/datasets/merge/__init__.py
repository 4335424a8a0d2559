"""Merging an approved dataset's staged rows into the CRM (reverting one is
:mod:`ogcrm.datasets.revert`).

A merge is one transaction: it flips the dataset ``merging -> merged`` together with
every upsert, so a crash leaves either all of it or none. Entities are matched by their
natural keys (API-10 for wells, agency + permit number, well + month for production;
organizations by operator id, remembered decisions, then name), and every field the
merge changes gets a :class:`~ogcrm.db.models.ChangeRecord` (entity, field, before,
after, dataset, source row); an entity it creates gets one creation record, which
stands for the values it was created with. Together they are the provenance of every
stored value, and what revert inverts.

Speed: a million-row dataset is merged batch by batch, each batch read as one frame; new
entities are built with a group-by per kind, given ids reserved in advance and written
with COPY; only entities already stored are compared field by field.

Precedence: a value a person set is never overwritten by an import, and a value set by
a higher-ranked source is never overwritten by a lower-ranked one. What was not applied
is counted (``not_applied``) and listed for review.

Merging the same rows again changes nothing: only differing fields are written.
"""

from ogcrm.datasets.merge.run import approve_and_merge, touched_organizations

__all__ = ["approve_and_merge", "touched_organizations"]
