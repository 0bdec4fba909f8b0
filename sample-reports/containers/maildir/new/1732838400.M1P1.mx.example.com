Content-Type: multipart/mixed; boundary="===============3207613053609926775=="
MIME-Version: 1.0
From: dmarc@esa1.hc1234-56.iphmx.com
To: dmarc@example.com
Subject: Report Domain: example.org Submitter: esa1.hc1234-56.iphmx.com
Message-ID: <cisco-1@example.net>
Date: Thu, 28 Nov 2024 12:00:00 +0000

--===============3207613053609926775==
Content-Type: text/plain; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit

Aggregate report attached.
--===============3207613053609926775==
Content-Type: application/gzip
MIME-Version: 1.0
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename="esa1!example.org!1732754143!1732840570.xml.gz"

H4sIAAAAAAAC/41Uy5LbIBC871e4XLmu3lo7VZjNKV+QnFUIRjZZISiEHOfvMxgky97N4yJBTzM9
04xEXi+q35zBjlIPh22eZNsNDFwLORwP2+/fvj7vt5tX+kQ6ANEy/kafNhsS+RTpJJ03PmDBaOsa
BY4J5pjHENX22AxMAYWR5cmJ50VZPdcviTQndUm4ViRdKOEEKCZ7KhSz/MufDwVWPHFxljVcD45x
18ih02mMxJqkoG0B7Z59KgrOeM4PjJfQirrOP1di19bdX5RuOUJObA4ay4ZjLBihFo4SHdmVxa6u
8qokaUDmOAziGt1XWb1D2/w+JEvvsy1qaxeJ0b3kvxoztb0cT7AUotGDgcKFKdNDgjZiuoAFAhNv
UlFL0rCI4Gi6K+bfATLUwg/gjqQmIqOhJB3nneGO5hnW7RcB6jTNSYrPa9EfFYjec23nWq3+ubgx
6slyaKShRVYmWZLnZZJXmP4WmKlcT4OjLyQNixmOenBm/YT+iTngTZGj0aN0firnrtbYiuk96XCK
kLDYE7vvYmDxaNXlgype2dwbkQIGJzuJX8Xq7s/QawNNZ7W6v6z70HzgBEyA/YC+DkTpd4KETe7U
WBin3t1qeOjvX4MTTIAezdPWf7hoxLy7EYIINWAVWKutn90rshi2liUrK/+7BI7mUOUbxgqum3fy
4Z4elW+znT4a4slhMHF+lx/bb+9fSkoMBQAA

--===============3207613053609926775==--
