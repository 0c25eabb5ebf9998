"""The resource model as text, for `mockserver resources FILE`: a summary table, each
resource with every reason, then the skipped operations grouped by the rule that did
not apply."""

from __future__ import annotations

from collections import Counter

from mockserver.resources.infer import RULES, Listing, Placement, ResourceModel, Role


def text(model: ResourceModel, source: str) -> str:
    lines: list[str] = []
    placed = sum(len(resource.operations) for resource in model.resources)
    lines.append(
        f"{source}: {_count(len(model.resources), 'resource')} ({_count(placed, 'operation')}), "
        f"{len(model.skipped)} skipped, of {_count(placed + len(model.skipped), 'operation')}"
    )
    if model.resources:
        lines.append("")
        lines += _table(
            ["RESOURCE", "ID", "SCOPE", "ROLES", "ITEM PATH"],
            [
                [
                    resource.name,
                    f"{resource.id.parameter} -> {resource.id.property}",
                    ", ".join(resource.scope) or "-",
                    " ".join(_role_counts(resource.operations)),
                    resource.item_path,
                ]
                for resource in model.resources
            ],
        )
    groups = Counter(skip.rule for skip in model.skipped)
    if groups:
        lines += ["", "Skipped, by rule:"]
        lines += _table(None, [[rule, str(count), RULES[rule]] for rule, count in groups.most_common()], indent="  ")
    for resource in model.resources:
        lines += ["", f"{resource.name}: {resource.item_path}"]
        rows = [
            ["item", resource.reasons[0]],
            ["collection", resource.reasons[1]],
            ["id", resource.id.reason],
            ["", f"the property's schema: {resource.id.source}"],
            ["schema", f"{resource.schema}: {resource.schema_reason}"],
            ["scope", f"{', '.join(resource.scope)}: the parent path parameters" if resource.scope else "-"],
        ]
        if resource.parent:
            rows.append(["parent", f"{resource.parent}: its item path is above the collection"])
        for role in resource.operations:
            rows.append([role.role, f"{role.method} {role.path} ({role.operation_id}): {role.reason}"])
            rows += [["", detail] for detail in _details(role)]
        lines += _table(None, rows, indent="  ")
    for rule in groups:
        lines += ["", f"Skipped: {rule} ({groups[rule]}): {RULES[rule]}"]
        lines += [
            f"  {skip.method} {skip.path} ({skip.operation_id}): {skip.reason}"
            for skip in model.skipped
            if skip.rule == rule
        ]
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _role_counts(roles: tuple[Role, ...]) -> list[str]:
    counts = Counter(role.role for role in roles)
    return [f"{name}x{count}" if count > 1 else name for name, count in counts.items()]


def _details(role: Role) -> list[str]:
    details = []
    if role.request is not None:
        details.append(f"request: {_placement(role.request)}")
    if role.response is not None:
        details.append(f"answer {role.response.status}: {_placement(role.response)}")
    details += [f"patch as {patch.media_type}: {patch.kind}, {patch.reason}" for patch in role.patch]
    if role.listing is not None:
        details += _listing(role.listing)
    return details


def _placement(placement: Placement) -> str:
    return f"the item at {_at(placement.at)} ({placement.schema}): {placement.reason}"


def _at(pointer: str) -> str:
    """A pointer into a body as printed: the whole body, "", in quotes."""
    return pointer or '""'


def _listing(listing: Listing) -> list[str]:
    details = [f"answer {listing.status}: the items at {_at(listing.items)}: {listing.reason}"]
    if listing.paging is not None:
        details.append(
            f"paging: {listing.paging.style} ({', '.join(listing.paging.parameters)}): {listing.paging.reason}"
        )
    if listing.total or listing.next:
        details.append(f"total: {listing.total or '-'}; next: {listing.next or '-'}")
    details += [f"filter: {f.reason}" for f in listing.filters]
    return details


def _table(header: list[str] | None, rows: list[list[str]], indent: str = "") -> list[str]:
    """Columns padded to their widest cell; the last column is never padded."""
    every = ([header] if header else []) + rows
    widths = [max(len(row[i]) for row in every) for i in range(len(every[0]) - 1)]
    return [
        indent + "  ".join([cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]).rstrip()
        for row in every
    ]
