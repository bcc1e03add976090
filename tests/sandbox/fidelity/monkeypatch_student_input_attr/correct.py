def confirm():
    return input("Sure? ").strip().lower() in ("y", "yes")
