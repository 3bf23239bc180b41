"""Stand-ins for outside parties the tests drive."""
