def is_prime(n):
    if n < 2:
        return False
    return n == 2 or n % 2 == 1
