def shout(text):
    print(text)


print("testing:", "ok")
