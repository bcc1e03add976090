def shout(text):
    print(text.upper())


print("testing:", "ok")
