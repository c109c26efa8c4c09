urlpatterns: list = []  # bare django-q2 serves no pages
