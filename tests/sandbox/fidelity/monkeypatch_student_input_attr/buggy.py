def confirm():
    return input("Sure? ").strip().lower() != ""
