def clean(text):
    letters = ""
    for ch in text:
        if ch.isalpha():
            letters += ch
    return letters


def is_palindrome(text):
    letters = clean(text)
    left = 0
    right = len(letters) - 1
    while left < right:
        if letters[left] != letters[right]:
            return False
        left += 1
        right -= 1
    return True
