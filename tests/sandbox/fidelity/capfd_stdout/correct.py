def banner(text):
    print(f"** {text} **")
