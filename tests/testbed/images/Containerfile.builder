# Builds the test bed's artefacts (dummy .deb/.rpm packages, apt and dnf repositories,
# ClamAV signatures) so that the host needs nothing but podman. Never a test host.
FROM localhost/avshift-debian12

# No init runs here: keep package scripts from trying to start freshclam.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        rpm createrepo-c apt-utils clamav \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

CMD ["/bin/bash"]
