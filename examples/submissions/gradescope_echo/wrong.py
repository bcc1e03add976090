def echo(text, times):
    return (text + " ") * times
