def echo(text, times):
    return " ".join([text] * times)
