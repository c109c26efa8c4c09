from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.ceiling.models import CeilingRow


class CeilingInsertApi(APIView):
    """POST: insert one row and answer 201 with its id (the project's default auth and permissions)."""

    def post(self, request):
        row = CeilingRow.objects.create(name=str(request.data.get("handler", ""))[:200])
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
