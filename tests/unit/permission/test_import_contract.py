"""Importing ACEs and group memberships in bulk (``import_permissions``),
on every backend: added to what is stored, duplicates kept once."""

BUCKET, RECORD = "/buckets/b", "/buckets/b/collections/c/records/r"
GROUP = "/buckets/b/groups/g"


def test_imported_aces_and_memberships_are_read_back(permission):
    counts = permission.import_permissions(
        aces=[
            (BUCKET, "write", "basicauth:ann"),
            (BUCKET, "read", "system.Everyone"),
            (RECORD, "write", "account:bob"),
            (RECORD, "write", GROUP),
        ],
        memberships=[("account:bob", GROUP), ("system.Authenticated", "/buckets/b/groups/all")],
    )
    assert counts == (4, 2)
    assert permission.get_object_permissions(object_uri=BUCKET) == {
        "write": {"basicauth:ann"},
        "read": {"system.Everyone"},
    }
    assert permission.get_object_permissions(object_uri=RECORD) == {"write": {"account:bob", GROUP}}
    assert permission.get_user_principals(user_ids={"account:bob"}) == {GROUP}
    assert permission.get_user_principals(user_ids={"system.Authenticated"}) == {"/buckets/b/groups/all"}
    assert permission.get_accessible_objects(principals={GROUP}, permissions={"write"}) == {RECORD: {"write"}}


def test_an_import_adds_to_stored_entries_and_keeps_duplicates_once(permission):
    permission.replace_object_permissions(object_uri=BUCKET, permissions={"write": {"basicauth:ann"}})
    permission.add_user_principal(user_id="account:bob", principal=GROUP)
    permission.import_permissions(
        aces=[(BUCKET, "write", "basicauth:ann"), (BUCKET, "write", "account:bob"), (BUCKET, "write", "account:bob")],
        memberships=[("account:bob", GROUP), ("account:bob", GROUP)],
    )
    assert permission.get_object_permissions(object_uri=BUCKET) == {"write": {"basicauth:ann", "account:bob"}}
    assert permission.get_user_principals(user_ids={"account:bob"}) == {GROUP}


def test_many_entries_are_imported_in_one_call(permission):
    uris = [f"/buckets/b/collections/c/records/r{i}" for i in range(12_345)]
    counts = permission.import_permissions(aces=((uri, "write", "account:bob") for uri in uris))
    assert counts == (12_345, 0)
    assert len(permission.get_accessible_objects(principals={"account:bob"}, permissions={"write"})) == 12_345
    assert permission.get_objects_permissions(object_uris=[uris[0], uris[-1]]) == [
        {"write": {"account:bob"}},
        {"write": {"account:bob"}},
    ]
