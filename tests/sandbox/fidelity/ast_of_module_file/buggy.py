def my_sort(values):
    return sorted(values)
