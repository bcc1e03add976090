def apply_to_each(function, items):
    return [function(item) for item in items]


def keep_if(predicate, items):
    return [item for item in items if predicate(item)]
