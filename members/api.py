from rest_framework.views import APIView


class VerifyMemberView(APIView):
    pass
