def report(counts):
    for key, value in sorted(counts.items()):
        print(f"{key} = {value}")
