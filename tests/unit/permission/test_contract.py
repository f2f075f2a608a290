"""The permission backend contract, run against every backend."""

URI = "/buckets/b/collections/c"


def test_replace_and_read_object_permissions(permission):
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["a", "b"], "write": ["a"]})
    assert permission.get_object_permissions(object_uri=URI) == {"read": {"a", "b"}, "write": {"a"}}


def test_replace_touches_only_named_permissions(permission):
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["a"], "write": ["a"]})
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["z"]})
    assert permission.get_object_permissions(object_uri=URI) == {"read": {"z"}, "write": {"a"}}


def test_empty_list_removes_permission(permission):
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["a"], "write": ["a"]})
    permission.replace_object_permissions(object_uri=URI, permissions={"read": []})
    assert permission.get_object_permissions(object_uri=URI) == {"write": {"a"}}


def test_get_objects_permissions_keeps_order_and_fills_missing(permission):
    permission.replace_object_permissions(object_uri="/buckets/b", permissions={"write": ["a"]})
    assert permission.get_objects_permissions(object_uris=["/x", "/buckets/b"]) == [{}, {"write": {"a"}}]


def test_delete_object_permissions_with_children(permission):
    permission.replace_object_permissions(object_uri="/buckets/b", permissions={"write": ["a"]})
    permission.replace_object_permissions(object_uri=URI, permissions={"write": ["a"]})
    permission.replace_object_permissions(object_uri="/buckets/bb", permissions={"write": ["a"]})
    permission.delete_object_permissions(object_uri="/buckets/b")
    found = permission.get_objects_permissions(object_uris=["/buckets/b", URI, "/buckets/bb"])
    assert found == [{}, {}, {"write": {"a"}}]
    assert permission.get_accessible_objects(principals=["a"], permissions={"write"}) == {"/buckets/bb": {"write"}}


def test_delete_object_permissions_without_children(permission):
    permission.replace_object_permissions(object_uri="/buckets/b", permissions={"write": ["a"]})
    permission.replace_object_permissions(object_uri=URI, permissions={"write": ["a"]})
    permission.delete_object_permissions(object_uri="/buckets/b", with_children=False)
    assert permission.get_objects_permissions(object_uris=["/buckets/b", URI]) == [{}, {"write": {"a"}}]


def test_accessible_objects_by_principals_permissions_and_prefix(permission):
    permission.replace_object_permissions(object_uri=f"{URI}/records/1", permissions={"read": ["a"]})
    permission.replace_object_permissions(object_uri=f"{URI}/records/2", permissions={"write": ["b"]})
    permission.replace_object_permissions(object_uri="/buckets/x", permissions={"read": ["a"]})
    found = permission.get_accessible_objects(
        principals=["a", "b"], permissions={"read", "write"}, uri_prefix=f"{URI}/records/"
    )
    assert found == {f"{URI}/records/1": {"read"}, f"{URI}/records/2": {"write"}}
    assert permission.get_accessible_objects(principals=["c"], permissions={"read"}) == {}


def test_user_principals(permission):
    permission.add_user_principal(user_id="alice", principal="/buckets/b/groups/g1")
    permission.add_user_principal(user_id="alice", principal="/buckets/b/groups/g2")
    permission.add_user_principal(user_id="system.Authenticated", principal="/buckets/b/groups/all")
    held = permission.get_user_principals(user_ids=["alice", "system.Authenticated"])
    assert held == {"/buckets/b/groups/g1", "/buckets/b/groups/g2", "/buckets/b/groups/all"}
    permission.remove_user_principal(user_id="alice", principal="/buckets/b/groups/g1")
    permission.remove_principal(principal="/buckets/b/groups/all")
    assert permission.get_user_principals(user_ids=["alice", "system.Authenticated"]) == {"/buckets/b/groups/g2"}
    permission.remove_user_principal(user_id="nobody", principal="x")


def test_flush_and_heartbeat(permission):
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["a"]})
    permission.flush()
    assert permission.get_object_permissions(object_uri=URI) == {}
    assert permission.heartbeat() is True


def test_principals_and_permissions_at_once(permission):
    permission.add_user_principal(user_id="alice", principal="/buckets/b/groups/g")
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["/buckets/b/groups/g"]})
    principals, acls = permission.get_principals_and_permissions(user_ids=["alice", "x"], object_uris=["/none", URI])
    assert principals == {"/buckets/b/groups/g"}
    assert acls == [{}, {"read": {"/buckets/b/groups/g"}}]


def test_remove_principal_removes_its_aces_and_memberships(permission):
    group = "/buckets/b/groups/g"
    permission.replace_object_permissions(object_uri=URI, permissions={"read": [group, "a"], "write": [group]})
    permission.add_user_principal(user_id="a", principal=group)
    permission.remove_principal(principal=group)
    assert permission.get_object_permissions(object_uri=URI) == {"read": {"a"}}
    assert permission.get_user_principals(user_ids=["a"]) == set()


def test_a_rolled_back_request_leaves_no_ace_and_no_membership(permission):
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["a"], "write": ["a"]})
    permission.add_user_principal(user_id="a", principal="/buckets/b/groups/kept")
    permission.client.start_request(readonly=False)
    permission.replace_object_permissions(object_uri=URI, permissions={"read": ["z"]})
    permission.replace_object_permissions(object_uri="/buckets/new", permissions={"write": ["z"]})
    permission.add_user_principal(user_id="a", principal="/buckets/b/groups/g")
    permission.remove_user_principal(user_id="a", principal="/buckets/b/groups/kept")
    permission.delete_object_permissions(object_uri="/buckets/b")
    permission.client.finish_request(commit=False)
    assert permission.get_object_permissions(object_uri=URI) == {"read": {"a"}, "write": {"a"}}
    assert permission.get_object_permissions(object_uri="/buckets/new") == {}
    assert permission.get_user_principals(user_ids=["a"]) == {"/buckets/b/groups/kept"}
    assert permission.get_accessible_objects(principals=["z"], permissions=["read", "write"]) == {}
