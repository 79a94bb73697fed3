"""Signing in through the login page, as a user does."""


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    page.wait_for_function("!location.pathname.startsWith('/login')")
    page.wait_for_load_state()
